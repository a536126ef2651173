#include "app/log_view.h"

#include <QScrollBar>
#include <QStringList>
#include <QTime>

#include "app/logging.h"

namespace wb::ui {

LogView::LogView(QWidget* parent) : QPlainTextEdit(parent) {
    setReadOnly(true);
    setMaximumBlockCount(5000);
    setLineWrapMode(QPlainTextEdit::WidgetWidth);
    setPlaceholderText(tr("Messages from the dataset scan and the training run appear here."));
}

void LogView::append(wb::Level level, const QString& text) {
    const int index = int(level);
    if (index >= 0 && index < 3) {
        ++m_counts[index];
    }
    m_last = text;
    QString colour = palette().color(QPalette::Text).name();
    QString prefix;
    if (level == wb::Level::Warning) {
        colour = QStringLiteral("#b06000");
        prefix = tr("warning: ");
    } else if (level == wb::Level::Error) {
        colour = QStringLiteral("#c00000");
        prefix = tr("error: ");
    }
    const QString time = QTime::currentTime().toString(QStringLiteral("HH:mm:ss"));
    // Every line of a multi-line message (an engine summary) is a line of its own with the
    // time, so that none looks like the tail of the previous message; a summary's own
    // "warning:" lines are coloured as warnings.
    const QStringList lines = (prefix + text).split(QLatin1Char('\n'));
    for (const QString& line : lines) {
        if (lines.size() > 1 && line.trimmed().isEmpty()) {
            continue;
        }
        const bool quotedWarning =
            level == wb::Level::Info && line.trimmed().startsWith(QLatin1String("warning:"));
        appendHtml(QStringLiteral("<span style=\"color:gray\">%1</span> "
                                  "<span style=\"color:%2; white-space:pre-wrap\">%3</span>")
                       .arg(time, quotedWarning ? QStringLiteral("#b06000") : colour,
                            line.toHtmlEscaped()));
    }
    verticalScrollBar()->setValue(verticalScrollBar()->maximum());
    qCDebug(lcUi) << "log:" << prefix + text;
}

int LogView::count(wb::Level level) const {
    const int index = int(level);
    return index >= 0 && index < 3 ? m_counts[index] : 0;
}

}  // namespace wb::ui
