// Package entry point for asc, which resolves `import ... from "@extensions/sdk-assemblyscript"`
// to node_modules/@extensions/sdk-assemblyscript/index.ts. The SDK itself is in assembly/.
export * from "./assembly/index";
