export { isAllowed } from "./allow-list.js";
export { identityOf, setIdentity, type Identity } from "./identity.js";
export { createOidcVerifier } from "./oidc.js";
export { createOpenWebUiVerifier, type TokenVerifier, type VerifyOptions } from "./verifier.js";
