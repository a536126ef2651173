#pragma once

#include <QPlainTextEdit>
#include <QString>

#include "app/engine_types.h"

namespace wb::ui {

/// The window's message log: info, warnings (skipped files, empty classes) and errors (a bad
/// folder, a diverged run), time-stamped, warnings and errors in colour.
class LogView : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit LogView(QWidget* parent = nullptr);

    void append(wb::Level level, const QString& text);
    int count(wb::Level level) const;
    QString lastMessage() const { return m_last; }

private:
    int m_counts[3] = {0, 0, 0};
    QString m_last;
};

}  // namespace wb::ui
