// Loads the npm `ws` package. Kept in its own module so that a checkout without
// node_modules fails every test file with one clear instruction instead of a bare
// ERR_MODULE_NOT_FOUND stack trace.
let mod;
try {
  mod = await import('ws');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  throw new Error(
    'The npm package "ws" is not installed: run `npm ci` in tests/integration ' +
      '(or scripts/install-deps.sh) before running the integration tests.',
  );
}

export const WebSocket = mod.WebSocket ?? mod.default;
