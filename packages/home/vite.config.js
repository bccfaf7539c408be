import { defineConfig } from 'vite';

// React's automatic JSX through Vite's own esbuild: no React plugin needed.
// `npm run dev -w packages/home` proxies /api to a running stack (GLEANER_URL, default 127.0.0.1:8080).
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      // zod's sources carry comments Rollup cannot place; harmless, and noisy.
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules/zod')) return;
        warn(warning);
      },
    },
  },
  server: { proxy: { '/api': { target: process.env.GLEANER_URL ?? 'http://127.0.0.1:8080' } } },
});
