"""Synchronous training with tf.train.SyncReplicasOptimizer: one ps, two
workers, replicas_to_aggregate=2, as TensorFlow 1.x's distributed example
(mnist_replica.py) sets it up by hand: the chief initializes, runs
chief_init_op and the init tokens, and starts the chief queue runner (the
sync op in a loop); the other worker runs local_step_init_op. Every
global step applies the mean of one gradient from each worker (each
computed on its own half of the data, when each worker contributes once:
tokens count, not replicas, as in TensorFlow), so the variables follow
plain gradient descent on the whole data set, which the workers print.
Run by test_cluster.py as  mpirun -np 3 python3 sync_replicas.py"""

import os
import sys
import time

import numpy as np
import tfc as tf

STEPS = 12
LR = 0.2

cluster = tf.train.ClusterSpec({"ps": ["localhost:2222"],
                                "worker": ["localhost:2223", "localhost:2224"]})
rank = int(os.environ["OMPI_COMM_WORLD_RANK"])
job_name, task_index = ("ps", 0) if rank == 0 else ("worker", rank - 1)
server = tf.train.Server(cluster, job_name=job_name, task_index=task_index)


def say(key, value):
    print("%s/%d %s=%s" % (job_name, task_index, key, value))
    sys.stdout.flush()


if job_name == "ps":
    server.join()
    say("joined", 1)
    sys.exit(0)

is_chief = task_index == 0
rng = np.random.RandomState(0)
all_x = rng.uniform(-1, 1, (16, 2)).astype(np.float32)
all_y = all_x @ np.array([[1.5], [-0.5]], np.float32)
xs, ys = all_x[task_index::2], all_y[task_index::2]  # this worker's half

with tf.device(tf.train.replica_device_setter(
        worker_device="/job:worker/task:%d" % task_index, cluster=cluster)):
    global_step = tf.train.get_or_create_global_step()
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(tf.zeros([2, 1]), name="w")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(LR),
                                         replicas_to_aggregate=2, total_num_replicas=2)
    train_op = opt.minimize(loss, global_step=global_step)
    init = tf.global_variables_initializer()
    local_init = tf.local_variables_initializer()
    # no tokens ahead (replicas_to_aggregate == total_num_replicas allows 0):
    # a worker then cannot run a step ahead and take the other's token
    init_tokens = opt.get_init_tokens_op(num_tokens=0) if is_chief else None
    chief_qr = opt.get_chief_queue_runner() if is_chief else None

with tf.Session(server.target) as sess:
    if is_chief:
        sess.run([init, local_init])
        sess.run(opt.chief_init_op)
        sess.run(init_tokens)
        # the chief queue runner's loop, ending at the last step (tfc cannot
        # cancel a sync op waiting for gradients that will not come)
        import threading

        def sync_loop():
            while sess.run(global_step) < STEPS:
                sess.run(chief_qr.enqueue_ops[0])
        syncer = threading.Thread(target=sync_loop)
        syncer.start()
    else:
        while True:  # until the chief initialized
            try:
                sess.run(global_step)
                break
            except tf.errors.FailedPreconditionError:
                time.sleep(0.05)
        sess.run([local_init, opt.local_step_init_op])
    steps = 0
    while sess.run(global_step) < STEPS:
        sess.run(train_op, feed_dict={x: xs, y: ys})
        steps += 1
    if is_chief:
        syncer.join()
    say("global_step", sess.run(global_step))
    say("my_steps", steps)
    # plain gradient descent on the whole data set, STEPS times
    ref = np.zeros((2, 1), np.float32)
    for _ in range(STEPS):
        grads = [2 * xa.T @ (xa @ ref - ya) / len(xa) for xa, ya in
                 ((all_x[0::2], all_y[0::2]), (all_x[1::2], all_y[1::2]))]
        ref = ref - LR * (grads[0] + grads[1]) / 2
    say("w", "%.5f,%.5f" % tuple(sess.run(w).ravel()))
    say("w_ref", "%.5f,%.5f" % tuple(ref.ravel()))
say("done", 1)
