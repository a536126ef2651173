#include "app/log_view.h"

#include <QScrollBar>
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
    // Multi-line engine summaries keep their lines.
    const QString body = (prefix + text).toHtmlEscaped().replace(QLatin1Char('\n'), "<br>");
    appendHtml(QStringLiteral("<span style=\"color:gray\">%1</span> "
                              "<span style=\"color:%2\">%3</span>")
                   .arg(time, colour, body));
    verticalScrollBar()->setValue(verticalScrollBar()->maximum());
    qCDebug(lcUi) << "log:" << prefix + text;
}

int LogView::count(wb::Level level) const {
    const int index = int(level);
    return index >= 0 && index < 3 ? m_counts[index] : 0;
}

}  // namespace wb::ui
