/**
 * The bundled demo origin: a realistic shop page whose slots hold the page's own default content
 * (what a visitor sees when nothing personalizes it), a large page that streams slowly (to prove
 * that rewriting streams), and a non-HTML asset (to prove byte-for-byte pass-through).
 */
const STYLE = `
  *, *::before, *::after { box-sizing: border-box; }
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #222; background: #faf8f5; overflow-wrap: anywhere; }
  header, footer { padding: 16px clamp(12px, 4vw, 32px); background: #1f2a36; color: #fff; }
  main { max-width: 1100px; margin: 0 auto; padding: 24px clamp(12px, 4vw, 32px); }
  [data-slot="hero"] { display: block; min-height: 320px; margin-bottom: 24px; background: #efe8dd; }
  [data-slot="recommendations"] { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 220px), 1fr)); gap: 16px; min-height: 300px; }
  [data-slot="promo"] { display: block; min-height: 80px; margin-top: 24px; background: #fff3d6; }
  .ep-item, .default { padding: 12px; background: #fff; border-radius: 8px; min-width: 0; }
  .ep-link { color: inherit; text-decoration: none; display: grid; gap: 4px; }
  .ep-image { display: block; width: 100%; max-width: 360px; height: auto; aspect-ratio: 4 / 3; background: #ddd; }
  [data-slot="hero"] .ep-link { grid-template-columns: minmax(0, 360px) 1fr; align-items: center; column-gap: 24px; }
  [data-slot="hero"] .ep-image { grid-row: span 3; }
  @media (max-width: 640px) {
    /* One column on phones: the hero's image above its text, nothing wider than the screen. */
    [data-slot="hero"] .ep-link { grid-template-columns: 1fr; }
    [data-slot="hero"] .ep-image { grid-row: auto; max-width: 100%; }
  }
  .ep-title { font-weight: 600; } .ep-cta { color: #a0522d; }
`;

/** The demo shop page; `lang` is the page's language, which leads the content variants' language chain. */
export function shopPage(title = "Demo fashion shop", lang: "en" | "fr" = "en"): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<header><strong>Demo fashion shop</strong> · Women · Men · Sale</header>
<main>
<section data-slot="hero" data-count="1"><div class="default"><h1>The autumn collection</h1><p>Wool, denim and leather for the cold days ahead.</p></div></section>
<h2>Recommended for you</h2>
<section data-slot="recommendations" data-count="3">
<div class="default">Knitwear</div><div class="default">Outerwear</div><div class="default">Shoes</div>
</section>
<aside data-slot="promo" data-count="1"><div class="default">Free shipping on orders over ¥10,000</div></aside>
</main>
<footer>Demo content for edge-personalizer. Product data: Open Bandit Dataset (Saito et al., arXiv:2008.07146).</footer>
</body>
</html>`;
}

/** A page of `chunks` filler paragraphs after the slots, produced one every `delayMs`. */
export function slowLargePage(chunks: number, delayMs: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const [head, tail] = shopPage("Large demo page").split("</main>") as [string, string];
  let sent = 0;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode(head));
    },
    async pull(controller) {
      if (sent === chunks) {
        controller.enqueue(encoder.encode(`<p id="end">produced at ${Date.now()}</p></main>${tail}`));
        controller.close();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      controller.enqueue(encoder.encode(`<p class="filler" data-at="${Date.now()}">${"Lorem ipsum dolor sit amet. ".repeat(40)}</p>\n`));
      sent++;
    },
  });
}

export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#1f2a36"/><text x="32" y="40" font-size="24" text-anchor="middle" fill="#fff">EP</text></svg>`;

/** A placeholder product image: a colour derived from the id, and the id as a label. */
export function productImage(id: string): string {
  let hue = 0;
  for (const ch of id) hue = (hue * 31 + ch.charCodeAt(0)) % 360;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="320" height="240" fill="hsl(${hue} 45% 72%)"/><text x="160" y="128" font-family="sans-serif" font-size="28" text-anchor="middle" fill="#1f2a36">${id}</text></svg>`;
}

export function productPage(id: string): string {
  return shopPage(`Product ${id}`).replace(/<main>[\s\S]*<\/main>/, `<main><h1>Product ${id}</h1><p>A demo product page.</p></main>`);
}
