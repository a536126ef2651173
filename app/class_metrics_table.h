#pragma once

#include <QStringList>
#include <QTableView>

#include "engine/metrics.h"

class QSortFilterProxyModel;
class QStandardItemModel;

namespace wb::ui {

/// Precision, recall, F1 and support of each class, then the macro and weighted averages.
/// Clicking a header sorts by that column, by value (0.95 after 0.9, 1000 after 999); the two
/// average rows stay at the bottom whichever the column and order.
class ClassMetricsTable : public QTableView {
    Q_OBJECT
public:
    enum Column { Class, Precision, Recall, F1, Support, ColumnCount };

    explicit ClassMetricsTable(QWidget* parent = nullptr);

    /// Replaces the rows; `classes` names metrics.per_class. Keeps the sort column and order.
    void setMetrics(const QStringList& classes, const wb::ClassificationMetrics& metrics);
    void clear();

    /// Rows as shown (sorted), averages included.
    int rowCount() const;
    /// The text of a cell as shown: "0.912" for a rate, "1000" for a support.
    QString text(int row, int column) const;
    /// The value a cell sorts by; for the Class column, the class index (-1 for an average).
    double value(int row, int column) const;
    /// True for the "macro avg" and "weighted avg" rows.
    bool isAverageRow(int row) const;

    /// Wide enough for every column's widest text (class names up to 160 pixels), so the
    /// table never scrolls sideways.
    QSize minimumSizeHint() const override;
    QSize sizeHint() const override;

private:
    QStandardItemModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
};

}  // namespace wb::ui
