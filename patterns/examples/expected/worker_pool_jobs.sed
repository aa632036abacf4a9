s/^worker [0-4] /worker N /
