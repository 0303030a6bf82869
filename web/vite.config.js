// Builds the workspace into web/dist, which the switchboard binary serves
// itself (http.web_root, src/api/static.c). `npm run dev` proxies the API to
// a server on 127.0.0.1:8080 (bash scripts/demo.sh).
import { defineConfig } from 'vite';

export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 300 },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
