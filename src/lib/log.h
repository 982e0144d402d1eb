/*
 * log.h — levelled logging to stderr or PI_LOGFILE.
 *
 * Levels are Python's logging numbers, as PI_LOGLEVEL uses them
 * (10 debug, 20 info, 30 warning, 40 error, 50 critical).  Never pass a
 * secret (password, PIN, OTP, key) to these functions.
 */
#ifndef TESSERA_LOG_H
#define TESSERA_LOG_H

enum { LOG_DEBUG_ = 10, LOG_INFO_ = 20, LOG_WARNING_ = 30, LOG_ERROR_ = 40, LOG_CRITICAL_ = 50 };

/* Configure once at start-up; path NULL or "" means stderr. Returns -1 if the
 * file cannot be opened (logging then stays on stderr). */
int log_init(int level, const char *path);
int log_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_close(void);

#define log_debug(...) log_msg(LOG_DEBUG_, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO_, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING_, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR_, __VA_ARGS__)

#endif
