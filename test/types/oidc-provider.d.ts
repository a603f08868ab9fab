// oidc-provider ships no type declarations; the test helper narrows what it uses itself.
declare module 'oidc-provider';
