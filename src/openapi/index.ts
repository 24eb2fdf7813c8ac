export { buildOpenApiDocument, type DocumentInput, type DocumentMount, type OpenAPIObject } from "./build-document.js";
export { translateSchema, type TranslatedSchema } from "./translate-schema.js";
