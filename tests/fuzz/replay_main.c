/*
 * Standalone driver for the fuzz targets: feeds every regular file in the
 * directories (or the files) named on the command line to
 * LLVMFuzzerTestOneInput once, so ctest replays the seed corpora with any
 * compiler. Fails if nothing ran or a file cannot be read; a target
 * failure aborts the process.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INPUT_MAX (1 << 20) /* bytes; corpus files are far smaller */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* run_file feeds one file. Returns 1 if it ran, 0 if skipped, -1 on a
 * read error. */
static int run_file(const char *path) {
  static uint8_t buf[INPUT_MAX];
  struct stat st;
  size_t n;
  FILE *fp;
  if (stat(path, &st) != 0) return -1;
  if (!S_ISREG(st.st_mode)) return 0;
  if (st.st_size > INPUT_MAX || !(fp = fopen(path, "rb"))) return -1;
  n = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  if (n != (size_t)st.st_size) return -1;
  LLVMFuzzerTestOneInput(buf, n);
  return 1;
}

/* run_dir feeds every non-hidden regular file in |dir|. Returns the
 * number run, or -1 on an error. */
static long run_dir(const char *dir) {
  char path[4096];
  struct dirent *e;
  long ran = 0;
  DIR *d = opendir(dir);
  if (!d) return -1;
  while ((e = readdir(d)) != NULL) {
    int rv;
    if (e->d_name[0] == '.') continue;
    if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
        (int)sizeof path) {
      ran = -1;
      break;
    }
    rv = run_file(path);
    if (rv < 0) {
      fprintf(stderr, "cannot read %s\n", path);
      ran = -1;
      break;
    }
    ran += rv;
  }
  closedir(d);
  return ran;
}

int main(int argc, char **argv) {
  long total = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    long ran;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 1;
    }
    ran = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
    if (ran < 0) return 1;
    total += ran;
  }
  printf("%s: ran %ld inputs\n", argc > 0 ? argv[0] : "replay", total);
  return total > 0 ? 0 : 1;
}
