// ESLint (flat config) for our plain browser JavaScript (the web widget, the console's
// dashboard script): run by `make check`.
// The widget is a classic browser script (an IIFE with "use strict", no modules, no build step),
// written in ES5 so that the old browsers of office PCs run it: ecmaVersion 5 keeps it so.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["connectors/webchat/widget/**/*.js"],
    languageOptions: {
      ecmaVersion: 5,
      sourceType: "script",
      globals: { ...globals.browser, io: "readonly" },
    },
    rules: {
      eqeqeq: ["error", "always"],
      "no-implicit-globals": "error",
      // ES5 (old office browsers) needs a name in every `catch (e)`, even when it is not used.
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
    },
  },
  {
    // The console's dashboard: a classic script for the same old browsers; Chart.js is loaded before it.
    files: ["backend/console/static/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { ...globals.browser, Chart: "readonly" },
    },
    rules: { eqeqeq: ["error", "always"], "no-implicit-globals": "error" },
  },
];
