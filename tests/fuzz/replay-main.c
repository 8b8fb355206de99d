/* Replays a fuzz target over every file of the corpus directories (or files)
 * named on the command line, so the seed corpus runs in `make check` without
 * libFuzzer.  Exits non-zero if the target crashes (the sanitizers abort). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    uint8_t *buf = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (size == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            if (!buf) {
                abort();
            }
        }
        size_t n = fread(buf + size, 1, cap - size, f);
        if (!n) {
            break;
        }
        size += n;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 0;
}

static int
replay_path(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st)) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ++*count;
        return replay_file(path);
    }
    DIR *dir = opendir(path);
    if (!dir) {
        perror(path);
        return 1;
    }
    int errors = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.') {
            continue;
        }
        size_t n = strlen(path) + strlen(de->d_name) + 2;
        char *child = malloc(n);
        if (!child) {
            abort();
        }
        snprintf(child, n, "%s/%s", path, de->d_name);
        errors += replay_path(child, count);
        free(child);
    }
    closedir(dir);
    return errors;
}

int
main(int argc, char *argv[])
{
    int errors = 0, count = 0;
    for (int i = 1; i < argc; i++) {
        errors += replay_path(argv[i], &count);
    }
    printf("replayed %d inputs\n", count);
    if (!count) {
        fprintf(stderr, "no corpus inputs found\n");
        return 1;
    }
    return errors ? 1 : 0;
}
