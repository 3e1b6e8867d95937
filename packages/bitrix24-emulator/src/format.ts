/** Output formatting in Bitrix24's style: string ids, Y/N flags, culture-formatted dates. */
export const yn = (b: boolean): 'Y' | 'N' => (b ? 'Y' : 'N');

export const idStr = (n: number | null | undefined): string | null =>
  n === null || n === undefined ? null : String(n);

const pad = (n: number): string => String(n).padStart(2, '0');

/** "03/26/2026 12:21:48 pm", the English culture format the docs show. */
export function bxDate(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(h12)}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'am' : 'pm'}`;
}

/** "2026-03-23T23:02:44+00:00", as in `time.date_start`. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
