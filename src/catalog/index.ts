export { buildCatalog, titleCase, type CatalogOptions } from "./build-catalog.js";
export {
  OPERATION_ID_PATTERN,
  OperationIdAllocator,
  allocateOperationIds,
  sanitizeOperationId,
} from "./operation-id.js";
export type { Catalog, ToolRoute } from "./tool-route.js";
export type { JsonSchema } from "./json-schema.js";
export {
  isJsonSchemaObject,
  forEachSubschema,
  subschemas,
  SCHEMA_KEYWORDS,
  SCHEMA_LIST_KEYWORDS,
  SCHEMA_MAP_KEYWORDS,
} from "./json-schema.js";
export { ValidatorFactory, dialectOf, type Validate, type ValidatorWarning } from "./validator.js";
export { CALL_TOOL_RESULT_SCHEMA, RAW_RESULT_MEDIA_TYPE } from "./raw-result.js";
export { checkArguments, rememberExactBody, type Checked } from "./arguments.js";
export { filterTools, type ToolFilterOptions } from "./tool-filter.js";
