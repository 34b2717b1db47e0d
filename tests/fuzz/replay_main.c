/* Replay driver for compilers without libFuzzer: feeds every file named on
 * the command line (or found in a directory named there) to the target once. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
  static uint8_t buf[1 << 20];
  FILE *f = fopen(path, "rb");
  size_t n;

  if (f == NULL) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return 1;
  }
  n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  LLVMFuzzerTestOneInput(buf, n);
  printf("replayed %s (%zu bytes)\n", path, n);
  return 0;
}

static int run_path(const char *path, int *count)
{
  struct stat st;
  DIR *d;
  struct dirent *e;
  char child[4096];
  int bad = 0;

  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: no such path %s\n", path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    (*count)++;
    return run_file(path);
  }
  d = opendir(path);
  if (d == NULL)
    return 1;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(child, sizeof child, "%s/%s", path, e->d_name);
    bad |= run_path(child, count);
  }
  closedir(d);
  return bad;
}

int main(int argc, char **argv)
{
  int i, bad = 0, count = 0;

  for (i = 1; i < argc; i++)
    bad |= run_path(argv[i], &count);
  if (count == 0) {
    fprintf(stderr, "replay: no inputs\n");
    return 1;
  }
  return bad;
}
