"""Seed 002's "Distributed TensorFlow" slides, run with `import tfc as tf`:
describe a cluster (ClusterSpec), share the graph across devices (the
variables on the two ps tasks, the model on a worker), run it in a session
on a worker's target. test_cluster.py runs it as
    mpirun -np 5 python3 talk_002_distributed.py
Lines marked "completed:" fill in what the slides elide ("..."), start each
task's server (the slides' launcher), and use this worker's own task where
the slide names "/job:worker/task:7" and "grpc://worker7.example.com:2222"
(its cluster has workers 0-2 only; TensorFlow would fail there too)."""
import sys
import time

import numpy as np
import tfc as tf

cluster = tf.train.ClusterSpec({
    "worker": [
        "worker0.example.com:2222",
        "worker1.example.com:2222",
        "worker2.example.com:2222"
    ],
    "ps": [
        "ps0.example.com:2222",
        "ps1.example.com:2222"
    ]
})

# completed: each process runs the task its MPI rank holds (workers 0-2, then ps 0-1)
server = tf.train.Server(cluster)
job, task = server.server_def.job_name, server.server_def.task_index
if job == "ps":
    server.join()  # completed: a ps serves until the workers are done
    sys.exit(0)

# completed: a regression problem for the slide's two-layer network
rng = np.random.RandomState(task)
data_x = rng.uniform(-1, 1, (64, 4)).astype(np.float32)
data_y = (np.abs(data_x.sum(1, keepdims=True)) * 0.5).astype(np.float32)

with tf.device("/job:ps/task:0"):
    weights_1 = tf.Variable(tf.truncated_normal([4, 16], stddev=0.5, seed=1))  # completed
    biases_1 = tf.Variable(tf.zeros([16]))                                     # completed

with tf.device("/job:ps/task:1"):
    weights_2 = tf.Variable(tf.truncated_normal([16, 1], stddev=0.5, seed=2))  # completed
    biases_2 = tf.Variable(tf.constant(0.1, shape=[1]))                        # completed

with tf.device("/job:worker/task:%d" % task):  # completed: the slide's task:7
    input, labels = tf.constant(data_x), tf.constant(data_y)  # completed
    layer_1 = tf.nn.relu(tf.matmul(input, weights_1) + biases_1)
    logits = tf.nn.relu(tf.matmul(layer_1, weights_2) + biases_2)
    loss = tf.reduce_mean(tf.square(logits - labels))                           # completed
    train_op = tf.train.GradientDescentOptimizer(0.05).minimize(loss)          # completed

with tf.Session("grpc://worker%d.example.com:2222" % task) as sess:  # completed: worker7
    # completed: worker 0 (the chief) initializes; the others wait for it
    if task == 0:
        sess.run(tf.global_variables_initializer())
    else:
        while True:
            try:
                sess.run(biases_2)
                break
            except tf.errors.FailedPreconditionError:
                time.sleep(0.05)
    first = sess.run(loss)  # completed
    for _ in range(300):   # the slide runs 10000 steps
        sess.run(train_op)
    last = sess.run(loss)  # completed
    print("worker/%d loss %.5f -> %.5f on %s" % (task, first, last,
                                                sess._assigned_device(weights_2)))
