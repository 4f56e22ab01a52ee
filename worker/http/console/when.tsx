/**
 * A moment in the console: UTC in the markup (readable without JavaScript, and exact in `datetime`
 * and the title), shown in the reader's own locale and time zone by console.client.js.
 */
export function When({ at }: { at: Date | string | number | null | undefined }) {
  if (at === null || at === undefined) return <>–</>;
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return <>{String(at)}</>;
  const iso = date.toISOString();
  const utc = `${iso.slice(0, 16).replace("T", " ")} UTC`;
  return (
    <time datetime={iso} title={utc}>
      {utc}
    </time>
  );
}
