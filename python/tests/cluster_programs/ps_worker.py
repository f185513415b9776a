"""Between-graph asynchronous training as TensorFlow 1.x's distributed
how-to writes it: one ps and two workers, each worker building its own
replica under tf.train.replica_device_setter and training through
tf.Session(server.target). Run by test_cluster.py as
    mpirun -np 3 python3 ps_worker.py
(the task comes from the rank, as a TensorFlow launcher's --job_name and
--task_index flags would give it), or with the argument "2ps" over two ps
tasks and one worker (the variables round robin over the ps tasks). Prints
"job/task key=value" lines the test checks."""

import os
import sys
import time

import numpy as np
import tfc as tf

STEPS = 60

NPS = 2 if sys.argv[1:] == ["2ps"] else 1
hosts = ["localhost:%d" % (2222 + i) for i in range(3)]
cluster = tf.train.ClusterSpec({"ps": hosts[:NPS], "worker": hosts[NPS:]})
NWORKERS = cluster.num_tasks("worker")
rank = int(os.environ["OMPI_COMM_WORLD_RANK"])
job_name, task_index = ("ps", rank) if rank < NPS else ("worker", rank - NPS)
server = tf.train.Server(cluster, job_name=job_name, task_index=task_index)


def say(key, value):
    print("%s/%d %s=%s" % (job_name, task_index, key, value))
    sys.stdout.flush()


say("target", server.target)
say("server_def", "%s:%d" % (server.server_def.job_name, server.server_def.task_index))

if job_name == "ps":
    server.join()
    say("joined", 1)
    sys.exit(0)

is_chief = task_index == 0
with tf.device(tf.train.replica_device_setter(
        worker_device="/job:worker/task:%d" % task_index, cluster=cluster)):
    global_step = tf.Variable(0, name="global_step", trainable=False)
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(tf.zeros([2, 1]), name="w")
    b = tf.Variable(tf.zeros([1]), name="b")
    pred = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.square(pred - y))
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step)
    init = tf.global_variables_initializer()

say("device_global_step", global_step.op.device)
say("device_w", w.op.device)
say("device_b", b.op.device)
say("device_pred", pred.op.device)

rng = np.random.RandomState(task_index)
xs = rng.uniform(-1, 1, (32, 2)).astype(np.float32)
ys = xs @ np.array([[2.0], [-3.0]], np.float32) + 0.5

with tf.Session(server.target) as sess:
    if is_chief:
        sess.run(init)
    else:
        while True:  # TensorFlow's wait_for_session: until the chief initialized
            try:
                sess.run(global_step)
                break
            except tf.errors.FailedPreconditionError:
                time.sleep(0.05)
    for _ in range(STEPS):
        sess.run(train_op, feed_dict={x: xs, y: ys})
    while sess.run(global_step) < NWORKERS * STEPS:  # the other worker's steps
        time.sleep(0.05)
    say("global_step", sess.run(global_step))
    say("loss", "%.6f" % sess.run(loss, feed_dict={x: xs, y: ys}))
    say("w", "%.3f,%.3f" % tuple(sess.run(w).ravel()))
    say("b", "%.3f" % sess.run(b)[0])
    say("assigned_w", sess._assigned_device(w))
    say("assigned_b", sess._assigned_device(b))
    say("assigned_pred", sess._assigned_device(pred))
    if is_chief:  # an error on another task comes back naming it
        with tf.device("/job:ps/task:0"):
            bad = tf.check_numerics(tf.log(tf.constant(-1.0)), "log of a negative number")
        try:
            sess.run(bad)
            say("remote_error", "none")
        except tf.errors.InvalidArgumentError as e:
            say("remote_error", " ".join(str(e).split()))
say("done", 1)
