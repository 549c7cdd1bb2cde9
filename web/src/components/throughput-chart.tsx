import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { t } from '../i18n/i18n';
import { timeOfDay } from '../format';

type Minute = { minute: string; completed: number; failed: number };

/** Completions and failures per minute (uPlot: a small canvas chart library, ~50 KB). */
export function ThroughputChart({ minutes }: { minutes: Minute[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const data: uPlot.AlignedData = [
      minutes.map((m) => Date.parse(m.minute) / 1000),
      minutes.map((m) => m.completed),
      minutes.map((m) => m.failed),
    ];
    if (plot.current) {
      plot.current.setData(data);
      return;
    }
    const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
    const axis = {
      stroke: dark ? '#aab' : '#556',
      grid: { stroke: dark ? '#333' : '#e4e4ea' },
      ticks: { stroke: dark ? '#333' : '#e4e4ea' },
    };
    plot.current = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 220,
        series: [
          { label: t('overview.minute'), value: (_u, v) => (v === null ? '—' : timeOfDay(v * 1000)) },
          { label: t('overview.completed'), stroke: '#2e9d5b', fill: 'rgba(46,157,91,0.15)', width: 2 },
          { label: t('overview.failed'), stroke: '#d64545', fill: 'rgba(214,69,69,0.12)', width: 2 },
        ],
        axes: [{ ...axis, values: (_u, ticks) => ticks.map((v) => timeOfDay(v * 1000)) }, { ...axis }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      },
      data,
      element,
    );
    const resize = () => plot.current?.setSize({ width: Math.max(280, element.clientWidth), height: 220 });
    window.addEventListener('resize', resize);
    return () => window.removeEventListener('resize', resize);
  }, [minutes]);
  useEffect(() => () => plot.current?.destroy(), []);
  return <div ref={box} class="chart" role="img" aria-label={t('overview.chartLabel')} />;
}
