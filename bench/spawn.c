/* Runs a command once with stdout sent to /dev/null and prints "status cpu_ms maxrss_kib".
 * A tiny fork+exec parent, because a child's peak RSS (ru_maxrss) includes the parent's memory
 * it shared before exec: measured from Python, every run would look 10 MiB bigger. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: spawn PROGRAM [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        execv(argv[1], argv + 1);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return 2;
    }
    double ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    printf("%d %.3f %ld\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128, ms, ru.ru_maxrss);
    return 0;
}
