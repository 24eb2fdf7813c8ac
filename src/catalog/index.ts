export { buildCatalog, titleCase, type CatalogOptions } from "./build-catalog.js";
export { OPERATION_ID_PATTERN, OperationIdAllocator, sanitizeOperationId } from "./operation-id.js";
export type { Catalog, ToolRoute } from "./tool-route.js";
export type { JsonSchema } from "./json-schema.js";
export { isJsonSchemaObject } from "./json-schema.js";
export { ValidatorFactory, type Validate } from "./validator.js";
export { filterTools, type ToolFilterOptions } from "./tool-filter.js";
