import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app';
import { locale } from './i18n/i18n';

document.documentElement.lang = locale.value;
const root = document.getElementById('app');
if (root) render(<App />, root);
