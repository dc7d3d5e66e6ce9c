import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// kefud serves dist/ at "/" and the API under /api; `npm run dev` proxies the API to a local kefud.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: true, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 2500,
    rollupOptions: {
      output: {
        // Split the large, rarely changing libraries so a console release re-downloads only app code.
        manualChunks(id) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts';
          if (id.includes('node_modules/@ant-design/pro')) return 'pro';
          if (id.includes('node_modules/')) return 'vendor';
          return undefined;
        },
      },
    },
  },
});
