// The console's build (run by tools/bootstrap/console.ts): static files the
// service serves at /, with no inline script (its Content-Security-Policy
// allows 'self' only).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  logLevel: "info",
  build: { modulePreload: { polyfill: false }, assetsInlineLimit: 0, sourcemap: false, target: "es2022" },
});
