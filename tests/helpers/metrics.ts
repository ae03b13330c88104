import type { Api } from './broker';

/**
 * The sum of a series' samples in Prometheus text whose labels include `labels` (all of them when
 * none are given); 0 when there is none.
 */
export function sampleSum(text: string, name: string, labels: Record<string, string | number> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => wanted.every((pair) => line.includes(pair)))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

export async function scrape(api: Api): Promise<string> {
  const res = await api.get('/metrics');
  if (res.status !== 200) throw new Error(`/metrics: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as string;
}
