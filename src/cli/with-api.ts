import { apiOver, remoteUrlOf, type ApiOptions, type CliApi } from './api-client.js';

/**
 * Runs `work` with a CliApi: over HTTP to `--url`/$CASCADE_URL when given, else over the local store through the
 * parent's own routes, in this process (see api-local.ts). Closes what it opened.
 */
export async function withApi<T>(options: ApiOptions, work: (api: CliApi) => Promise<T>): Promise<T> {
  const url = remoteUrlOf(options);
  // Each transport is imported when used: the local one pulls in the whole parent, the remote one nothing of it.
  if (url === undefined) {
    const { withLocalTransport } = await import('./api-local.js');
    return withLocalTransport(options, (transport) => work(apiOver(transport)));
  }
  const { remoteTransport } = await import('./api-remote.js');
  return work(apiOver(await remoteTransport(url, options)));
}
