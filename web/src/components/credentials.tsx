import { t } from '../i18n/i18n';
import { CopyButton } from './bits';

/** The child's config.yaml block for new credentials (the same block `cascade node add` prints). */
function childConfigBlock(apiKey: string, apiSecret: string): string {
  return [
    'cascade:',
    '  enabled: true',
    '  node_type: child',
    `  parent_api_url: "${window.location.origin}"`,
    `  api_key: "${apiKey}"`,
    `  api_secret: "${apiSecret}"`,
    '  sync_interval: 300',
    '  heartbeat_interval: 60',
  ].join('\n');
}

/** Shown once, right after creating a node or rotating its credentials: the server never returns the secret again. */
export function CredentialsOnce({ apiKey, apiSecret }: { apiKey: string; apiSecret: string }) {
  const block = childConfigBlock(apiKey, apiSecret);
  return (
    <div class="credentials" data-testid="credentials">
      <p class="warn" role="alert">
        {t('nodes.secretOnce')}
      </p>
      <dl>
        <dt>api_key</dt>
        <dd>
          <code data-testid="api-key">{apiKey}</code> <CopyButton text={apiKey} what="api_key" />
        </dd>
        <dt>api_secret</dt>
        <dd>
          <code data-testid="api-secret">{apiSecret}</code> <CopyButton text={apiSecret} what="api_secret" />
        </dd>
      </dl>
      <p>{t('nodes.configHint')}</p>
      <pre aria-label={t('nodes.configBlock')}>{block}</pre>
      <CopyButton text={block} what={t('nodes.configBlock')} />
    </div>
  );
}
