/**
 * onnxruntime-web inside workerd. Nothing else in the project should know about this.
 *
 * workerd forbids compiling WebAssembly from bytes at run time, and ORT's Emscripten glue wants to
 * do exactly that with the `.wasm` it fetches. So wrangler precompiles the runtime (a
 * `CompiledWasm` rule in wrangler.toml) and we hand ORT a sentinel buffer of our own as
 * `wasmBinary`; when the glue instantiates "bytes" backed by that sentinel, we instantiate the
 * precompiled module instead. The buffer ORT sees is a copy (`new Uint8Array(x)`) so we recognise
 * it by length and content, not identity.
 */

import * as ort from "onnxruntime-web/wasm";
// A relative path: wrangler's module collector does not resolve package subpaths of wasm modules.
import ortWasm from "../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";

const SENTINEL = new TextEncoder().encode("edge-personalizer:precompiled-ort-wasm");

function isSentinel(source: unknown): boolean {
  let bytes: Uint8Array | null = null;
  if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else if (ArrayBuffer.isView(source)) bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (!bytes || bytes.byteLength !== SENTINEL.byteLength) return false;
  return bytes.every((b, i) => b === SENTINEL[i]);
}

const originalInstantiate = WebAssembly.instantiate.bind(WebAssembly);
// The overloads of WebAssembly.instantiate cannot be expressed by one implementation signature.
// biome-ignore lint/suspicious/noExplicitAny: see above
(WebAssembly as any).instantiate = async (source: unknown, imports?: WebAssembly.Imports) => {
  if (isSentinel(source)) {
    const instance = await originalInstantiate(ortWasm, imports);
    return { instance, module: ortWasm };
  }
  // biome-ignore lint/suspicious/noExplicitAny: forwarding the caller's own overload
  return originalInstantiate(source as any, imports);
};

ort.env.wasm.numThreads = 1; // no Web Workers in workerd
ort.env.wasm.proxy = false;
ort.env.wasm.wasmBinary = SENTINEL.slice().buffer;
ort.env.logLevel = "error";

export { ort };
