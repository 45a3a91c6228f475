// Each service client registers itself here; importing this module makes them all available.
export {};
