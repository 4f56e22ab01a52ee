import type { RenderFields } from "../store/schema";

/**
 * Component identities: a variant's headline, body, image and call to action each get an id
 * derived from the component's kind and content, so that two variants sharing a headline share
 * its id, and reports can say which headline works best across the variants it appears in.
 */
export type ComponentKind = "title" | "body" | "imageUrl" | "cta";
export const componentKinds: readonly ComponentKind[] = ["title", "body", "imageUrl", "cta"];

/** FNV-1a, 32 bits: stable across isolates and Node, and plenty for one item's few components. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

export const componentId = (kind: ComponentKind, content: string) => `${kind}-${fnv1a(content)}`;

export function componentIdsOf(components: Partial<RenderFields>): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const kind of componentKinds) {
    const content = components[kind];
    if (content !== undefined) ids[kind] = componentId(kind, content);
  }
  return ids;
}
