// Vite build of the playground: web/index.html and web/src/*.ts, which import
// the pure folders of src/ by relative path (the very code the tests run).
// Output: web/dist, with relative asset paths so `synod play` (or any static
// server, or a sub-path) can serve it.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
});
