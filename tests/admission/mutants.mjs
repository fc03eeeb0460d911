export function mutantsFor() { return []; }
