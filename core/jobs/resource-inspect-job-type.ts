// The type of the job that inspects a stored file; its own file so intake can queue the job
// without importing its handler (which reaches intake through the service ids).

/** Job type of the inspection core queues for every stored file. */
export const RESOURCE_INSPECT_JOB = 'resource.inspect';
