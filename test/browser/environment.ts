import { builtinEnvironments, type Environment } from "vitest/environments";
import { stopSharedStack } from "../../scripts/harness/stack";

/**
 * Node, plus the end of the browser stack that the test files share (scripts/harness/stack.ts):
 * the first file to ask starts workerd and Chromium, and they stop when this worker does, after
 * the last file. (The project runs every file in one worker, one after another.)
 */
export default {
  name: "browser-stack",
  viteEnvironment: "ssr",
  async setup(global, options) {
    const node = await builtinEnvironments.node.setup(global, options);
    return {
      async teardown(global) {
        await stopSharedStack();
        await node.teardown(global);
      },
    };
  },
} satisfies Environment;
