/** The `next` cursor of a page of rows newest first by id: the last id when the page is full, else null (the last page). */
export function nextBeforeId(rows: readonly { id: number }[], limit: number): number | null {
  const last = rows[rows.length - 1];
  return rows.length === limit && last ? last.id : null;
}
