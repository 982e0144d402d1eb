/*
 * log.c — see log.h.  One line per call, written with a single fwrite so
 * lines from concurrent threads do not interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <pthread.h>

static int g_level = LOG_WARNING_;
static FILE *g_out;

int log_init(int level, const char *path)
{
	g_level = level;
	if (path && *path) {
		FILE *f = fopen(path, "a");
		if (!f)
			return -1;
		setvbuf(f, NULL, _IOLBF, 0);
		g_out = f;
	}
	return 0;
}

int log_level(void)
{
	return g_level;
}

static const char *level_name(int level)
{
	if (level >= LOG_CRITICAL_) return "CRITICAL";
	if (level >= LOG_ERROR_) return "ERROR";
	if (level >= LOG_WARNING_) return "WARNING";
	if (level >= LOG_INFO_) return "INFO";
	return "DEBUG";
}

void log_msg(int level, const char *fmt, ...)
{
	if (level < g_level)
		return;
	char line[2048];
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "[%04d-%02d-%02d %02d:%02d:%02d.%03ld][%s] ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (long)(tv.tv_usec / 1000), level_name(level));
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	FILE *out = g_out ? g_out : stderr;
	fwrite(line, 1, len, out);
}

void log_close(void)
{
	if (g_out) {
		fclose(g_out);
		g_out = NULL;
	}
}
