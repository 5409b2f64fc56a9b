// The platform's own version, which plugins' `coreVersion` ranges are checked against.
export const PLATFORM_VERSION = '0.1.0';
