/** Reads a JSON `detail` column (job_run, audit_log); text that is not JSON is shown as it is. */
export function parseDetail(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text; // written by hand, perhaps
  }
}
