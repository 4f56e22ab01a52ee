/**
 * A Google Merchant Center feed of `n` products for the onboarding tests (API, CLI, console):
 * `bad` ones have a non-https image (refused), `outOfStock` ones are never served, `skip` ones
 * are left out. Each <item> is 9 lines after a 4-line head, so product i starts at `lineOf(i)`.
 */
export function merchantFeed(n: number, options: { bad?: number[]; outOfStock?: number[]; skip?: number[] } = {}): string {
  const items: string[] = [];
  for (let i = 0; i < n; i++) {
    if (options.skip?.includes(i)) continue;
    const image = options.bad?.includes(i) ? "ftp://cdn.example/x.jpg" : `https://cdn.example/p${i}.jpg`;
    const availability = options.outOfStock?.includes(i) ? "out of stock" : "in stock";
    items.push(
      `<item>\n<g:id>P-${i}</g:id>\n<title>Product ${i}</title>\n<link>https://shop.example/p/${i}</link>\n<g:image_link>${image}</g:image_link>\n<g:price>${(10 + (i % 90)).toFixed(2)} EUR</g:price>\n<g:availability>${availability}</g:availability>\n<g:product_type>Women &gt; Knitwear</g:product_type>\n</item>`,
    );
  }
  return `<?xml version="1.0"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">\n<channel>\n<title>Feed</title>\n${items.join("\n")}\n</channel>\n</rss>\n`;
}

export const lineOf = (i: number) => 5 + i * 9;
