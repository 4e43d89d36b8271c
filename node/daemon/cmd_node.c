/*
 * `nointrude node`: assemble the settings (defaults, then the config file,
 * then the command line), prepare the data directory and hand over to the
 * runtime. The data directory is created 0700 under umask 077, so the
 * database, the identity in it and the control socket are private to the
 * user running the node.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "errors.h"
#include "log.h"
#include "runtime.h"

/* load_config reads --config FILE, or DIR/nointrude.conf when it exists. */
static int load_config(node_opts *o, const node_cli *cli) {
  char path[NODE_PATH_MAX], err[NODE_ERR_MSG_MAX + NODE_PATH_MAX];
  if (cli->config) {
    snprintf(path, sizeof path, "%s", cli->config);
  } else if (node_path_join(path, sizeof path, cli->data_dir,
                            NODE_CONFIG_NAME) < 0 ||
             access(path, F_OK) < 0) {
    return 0;
  }
  if (node_config_load(o, path, err, sizeof err) < 0) {
    fprintf(stderr, "nointrude node: %s\n", err);
    return NODE_ERR_CONFIG;
  }
  return 0;
}

static int prepare_data_dir(const char *dir) {
  struct stat st;
  umask(077);
  if (node_mkdir_private(dir) < 0 || stat(dir, &st) < 0) {
    fprintf(stderr, "nointrude node: cannot create %s: %s\n", dir,
            strerror(errno));
    return NODE_ERR_IO;
  }
  if (st.st_mode & 077)
    node_log(DHT_LOG_WARN,
             "data directory %s is accessible to other users "
             "(mode %03o); 0700 is expected",
             dir, (unsigned)st.st_mode & 0777);
  return 0;
}

int node_cmd_node(const node_cli *cli) {
  node_opts o;
  node_opts_default(&o);
  snprintf(o.data_dir, sizeof o.data_dir, "%s", cli->data_dir);
  if (load_config(&o, cli) < 0) return NODE_EXIT_FAILURE;
  if (node_opts_apply_cli(&o, cli) < 0) {
    fprintf(stderr,
            "nointrude node: more than %d bootstrap addresses in the "
            "config file and on the command line\n",
            NODE_BOOTSTRAP_MAX);
    return NODE_EXIT_USAGE;
  }
  if (o.n_listen == 0) {
    fprintf(stderr,
            "nointrude node: no address to listen on (give --listen "
            "HOST:PORT or 'listen' in the config file) (usage: nointrude "
            "%s)\n",
            node_args_synopsis(NODE_CMD_NODE));
    return NODE_EXIT_USAGE;
  }
  node_log_set_level(o.log_level);
  if (prepare_data_dir(o.data_dir) < 0) return NODE_EXIT_FAILURE;
  signal(SIGPIPE, SIG_IGN); /* a CLI that hangs up must not kill the node */
  return node_runtime_run(&o);
}
