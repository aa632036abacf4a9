s/^worker-[123] /worker-N /
