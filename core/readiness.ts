// What /readyz asks of each dependency (the database, the engines).

/** A dependency check: undefined when healthy, else what is wrong. */
export type ReadinessCheck = () => Promise<string | undefined>;
