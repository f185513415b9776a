/* A cluster spec: job names, each with its list of tasks (TensorFlow's
 * ClusterSpec), and the map from tasks to MPI ranks. Jobs keep the order
 * they were given in; rank = the tasks of the jobs before, plus the task's
 * index. Parsing needs no MPI, so tests/test_cluster_spec.c checks it as a
 * plain program. */
#ifndef TFC_DISTRIBUTED_CLUSTER_SPEC_H
#define TFC_DISTRIBUTED_CLUSTER_SPEC_H

#include "tfc.h"

typedef struct cluster_job {
    char *name;
    int ntasks;
    char **addresses; /* "host:port" as given (names only: MPI is the transport) */
    int first_rank;
} cluster_job;

struct tfc_cluster {
    int njobs;
    cluster_job *jobs;
    int ntasks; /* over all jobs */
};

/* The job index of `job`, or -1. */
int tfc_cluster_job_index(const tfc_cluster *c, const char *job);
/* Writes "/job:J/replica:0/task:K/device:CPU:0" for rank r into buf. */
void tfc_cluster_device_of_rank(const tfc_cluster *c, int rank, char *buf, size_t cap);
/* The rank of the task a device name ("/job:ps/replica:0/task:0/...")
 * names, or -1 when it names none of the cluster's tasks. */
int tfc_cluster_rank_of_device(const tfc_cluster *c, const char *device);
/* A deep copy, or NULL (memory). */
tfc_cluster *tfc_cluster_copy(const tfc_cluster *c);

#endif
