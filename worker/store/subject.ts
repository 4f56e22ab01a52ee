/**
 * The subject's hash: what tombstones and the audit log keep once a subject is erased. Ids are
 * random (122 bits), so the hash cannot be walked back by enumeration.
 */
export async function subjectHash(subjectId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`subject:${subjectId}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
