import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Served by Keyward at /dashboard (server/http/dashboard/static.ts). The SDK is read
// from its source, so the dashboard builds whether or not sdk/dist was built first.
export default defineConfig({
  base: "/dashboard/",
  plugins: [react()],
  resolve: {
    alias: { "@keyward/sdk": fileURLToPath(new URL("../sdk/src/index.ts", import.meta.url)) },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/graphql": "http://localhost:4000", "/dashboard/session": "http://localhost:4000" } },
});
