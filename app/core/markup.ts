// Text made safe in HTML and XML: element content and quoted attributes alike. One table for
// the UI's map icons, the station's tile attribution and the incident report.

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Takes any value: what a record or a peer sent may not be the type its field claims. */
export function escapeMarkup(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (char) => ENTITIES[char]);
}
