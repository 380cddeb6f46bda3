/*
 * siw_traffic: verifying RDMA traffic test for any RC-capable RDMA device
 * (iWARP or RoCE), over librdmacm (RDMA_PS_TCP) and libibverbs.
 *
 * A client opens several RC QPs to a server and drives a random but
 * reproducible mix of RDMA WRITE, RDMA READ, SEND and SEND_WITH_INV
 * operations of random sizes and scatter/gather layouts through each,
 * keeping a window of them in flight; every byte placed is checked
 * against a pattern derived from (seed, QP, operation). See usage().
 *
 * Exit status: 0 all verified, 1 something failed or differed, 2 timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "traffic.h"

struct options opt = {
	.port = "19875",
	.nqps = 1,
	.window = 8,
	.nops = 1000,
	.max_size = 1u << 20,
	.use_inv = true,
	.timeout = 120,
	.op_mask = (1u << OP_KINDS) - 1,
	.sig_every = 3,
	.inject_flip = -1,
	.backlog = 64,
};

static const char synopsis[] =
"usage: siw_traffic -s [-b BINDADDR] [-p PORT] [-S] [-t SECS]\n"
"                   [--backlog N] [--accept-delay MS]\n"
"       siw_traffic -c ADDR [-p PORT] [-q NQPS] [-n OPS] [-m MAXSIZE]\n"
"                   [-w WINDOW] [-r SEED] [-R] [-I 0|1] [-O OPS] [-k K]\n"
"                   [-t SECS] [-v] [--inject flip=N|early-reuse]\n"
"                   [--avoid intree-1seg] [--linger SECS]\n";

static void usage(int status)
{
	if (status) {
		fprintf(stderr, "%s(siw_traffic -h explains)\n", synopsis);
		exit(status);
	}
	printf("%s\n"
"  -s          server: accept connections, one QP and one thread each;\n"
"              exit when the client's QPs are done (status 1 if any\n"
"              check failed on the server side)\n"
"  -S          server: keep serving (no default time limit)\n"
"  -b ADDR     server: listen on ADDR only (default: 0.0.0.0 and ::)\n"
"  --backlog N server: rdma_listen()'s backlog (default 64)\n"
"  --accept-delay MS  server: a slow consumer, sleeping MS milliseconds\n"
"              before it answers each connection request\n"
"  -c ADDR     client: connect to ADDR (IPv4 or IPv6)\n"
"  -p PORT     port (default 19875)\n"
"  -q NQPS     client: QPs (connections) run concurrently (default 1)\n"
"  -n OPS      client: operations per QP (default 1000)\n"
"  -m SIZE     client: largest message, suffix k/m allowed (default 1m)\n"
"  -w WINDOW   client: operations in flight per QP (default 8)\n"
"  -r SEED     client: seed of the operation mix (default: random,\n"
"              always printed; -r SEED repeats a run on the same kind of\n"
"              device: the mix also depends on its SGE limits)\n"
"  -R, --reuse client: overwrite a WRITE/SEND source with 0x%02x as soon\n"
"              as its completion is seen (inline ones right after posting)\n"
"              while others are in flight: catches transports that still\n"
"              transmit from a buffer they completed\n"
"  -I 0|1      client: use SEND_WITH_INV on the server's spare MRs\n"
"              (default 1) and check the receiver's IBV_WC_WITH_INV and\n"
"              invalidated_rkey. Use -I 0 where that cannot work: rdma_rxe\n"
"              invalidates only fast-registered MRs and MWs, and\n"
"              rdma-core 44's siw provider never reports IBV_WC_WITH_INV\n"
"              (the project's userlib provider does)\n"
"  -O OPS      client: op kinds, comma separated, from write (WRITE,\n"
"              server verifies), wread (WRITE then READ back), read (READ\n"
"              of a server pattern), send, sendinv (default: all)\n"
"  -k K        client: signal about one in K send WRs (default 3; READs\n"
"              and the last WR before the window fills are always\n"
"              signaled)\n"
"  -t SECS     give up after SECS seconds with status 2 (default 120;\n"
"              0 = never)\n"
"  -v          client: print every operation\n"
"  --inject flip=N     self-test: corrupt one received byte of op N\n"
"  --inject early-reuse self-test: overwrite sources right after posting\n"
"  --avoid intree-1seg  client: keep a WRITE or SEND source of at most\n"
"              %u bytes in one SGE within one page. The kernel's in-tree\n"
"              siw copies such a source crossing a page wrongly when its\n"
"              TX thread sends it (siw_try_1seg()); use this where the\n"
"              client runs on the in-tree siw and the test is about\n"
"              something else\n"
"  --linger SECS  client: keep each connection up SECS seconds after its\n"
"              traffic is verified (\"qp N: lingering\" is printed), for\n"
"              looking at it from outside, e.g. with rdma resource show\n"
"\n"
"Exit status: 0 every op completed and every byte verified, 1 failure,\n"
"2 timeout.\n", synopsis, TR_REUSE_FILL, TR_INTREE_1SEG_MAX);
	exit(0);
}

static char alarm_msg[128];

static void on_alarm(int sig)
{
	ssize_t r;

	(void)sig;
	r = write(2, alarm_msg, strlen(alarm_msg));
	(void)r;
	_exit(2);
}

static bool parse_u64(const char *s, uint64_t *v, bool size_suffix)
{
	unsigned long long n;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return false;
	if (size_suffix && (*end == 'k' || *end == 'K'))
		shift = 10;
	else if (size_suffix && (*end == 'm' || *end == 'M'))
		shift = 20;
	if (shift)
		end++;
	/* A size that does not fit must not wrap around to a small one. */
	if (*end || n > ULLONG_MAX >> shift)
		return false;
	*v = n << shift;
	return true;
}

/* The number argument s of an option, in [min, max]; else usage. */
static uint64_t num_arg(const char *s, uint64_t min, uint64_t max,
			bool size_suffix)
{
	uint64_t v;

	if (!parse_u64(s, &v, size_suffix) || v < min || v > max)
		usage(1);
	return v;
}

static unsigned int parse_ops(const char *s)
{
	unsigned int mask = 0;
	char *copy = strdup(s), *tok, *save = NULL;
	int k;

	if (!copy)
		return 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < OP_KINDS; k++)
			if (!strcmp(tok, op_names[k]))
				break;
		if (k == OP_KINDS) {
			fprintf(stderr, "siw_traffic: unknown op kind '%s'\n",
				tok);
			free(copy);
			return 0;
		}
		mask |= 1u << k;
	}
	free(copy);
	return mask;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "reuse", no_argument, NULL, 'R' },
		{ "inject", required_argument, NULL, 'J' },
		{ "avoid", required_argument, NULL, 'A' },
		{ "backlog", required_argument, NULL, 'B' },
		{ "accept-delay", required_argument, NULL, 'D' },
		{ "linger", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool timeout_set = false, seed_set = false;
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "sSb:c:p:q:n:m:w:r:RI:O:k:t:vh",
				lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opt.server = true;
			break;
		case 'S':
			opt.server = true;
			opt.keep_serving = true;
			break;
		case 'b':
			opt.bind_addr = optarg;
			break;
		case 'c':
			opt.addr = optarg;
			break;
		case 'p':
			opt.port = optarg;
			break;
		case 'q':
			opt.nqps = (int)num_arg(optarg, 1, TR_MAX_QPS, false);
			break;
		case 'n':
			opt.nops = (uint32_t)num_arg(optarg, 0, 0xffffffffu,
						     false);
			break;
		case 'm':
			opt.max_size = num_arg(optarg, 0, TR_MAX_SIZE, true);
			break;
		case 'w':
			opt.window = (int)num_arg(optarg, 1, TR_MAX_WINDOW,
						  false);
			break;
		case 'r':
			opt.seed = num_arg(optarg, 0, UINT64_MAX, false);
			seed_set = true;
			break;
		case 'R':
			opt.reuse = true;
			break;
		case 'I':
			if (strcmp(optarg, "0") && strcmp(optarg, "1"))
				usage(1);
			opt.use_inv = optarg[0] == '1';
			break;
		case 'O':
			opt.op_mask = parse_ops(optarg);
			if (!opt.op_mask)
				usage(1);
			break;
		case 'k':
			opt.sig_every = (unsigned int)num_arg(optarg, 1, 1000,
							      false);
			break;
		case 't':
			opt.timeout = (unsigned int)num_arg(optarg, 0, 86400,
							    false);
			timeout_set = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'J':
			if (!strncmp(optarg, "flip=", 5) &&
			    parse_u64(optarg + 5, &v, false) &&
			    v < 0xffffffffu)
				opt.inject_flip = (int64_t)v;
			else if (!strcmp(optarg, "early-reuse"))
				opt.inject_early_reuse = true;
			else
				usage(1);
			break;
		case 'A':
			if (strcmp(optarg, "intree-1seg"))
				usage(1);
			opt.avoid_intree_1seg = true;
			break;
		case 'B':
			opt.backlog = (int)num_arg(optarg, 0, 65535, false);
			break;
		case 'D':
			opt.accept_delay_ms = (unsigned int)num_arg(optarg, 0,
								    60000,
								    false);
			break;
		case 'L':
			opt.linger = (unsigned int)num_arg(optarg, 0, 3600,
							   false);
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(1);
		}
	}
	if (optind != argc || opt.server == !!opt.addr)
		usage(1);
	if (!opt.use_inv)
		opt.op_mask &= ~(1u << OP_SENDINV);
	if (!opt.op_mask) {
		fprintf(stderr, "siw_traffic: no op kinds left to run\n");
		return 1;
	}
	if (opt.keep_serving && !timeout_set)
		opt.timeout = 0;
	if (!seed_set)
		opt.seed = (uint64_t)time(NULL) * 1000003u ^
			   (uint64_t)getpid() << 20;

	/* Never hang: whatever blocks, the alarm ends the process. */
	snprintf(alarm_msg, sizeof(alarm_msg),
		 "siw_traffic: TIMEOUT: not done after %u s, giving up\n",
		 opt.timeout);
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	/* The client reports what it waits for at the deadline itself. */
	if (opt.timeout)
		alarm(opt.server ? opt.timeout : opt.timeout + 10);

	return opt.server ? run_server() : run_client();
}
