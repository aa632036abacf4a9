/^worker 1: doing work$/d
