// Node's `process` as kiln's browser bundle sees it (esbuild injects this wherever a bundled module
// names `process`; scripts/build-browser.mjs). A page has no environment variables, so each
// KILN_* setting takes its default, and no stdout: ProgbarLogger's and JsonLogger's default
// stream writes its lines to the console. Code that asks whether it runs in Node looks at
// globalThis.process, which stays undefined.
export const process = {
  env: {},
  stdout: {
    isTTY: false,
    write(text) {
      console.log(text.replace(/\n$/, ''));
      return true;
    },
  },
};
