;;; lstm-complete with lsp-mode: an add-on client, so it runs beside your Python server
;; (pyright, pylsp, ...) and its completions join theirs.
;; :initialization-options takes the server's settings (see the README).
(with-eval-after-load 'lsp-mode
  (lsp-register-client
   (make-lsp-client
    :new-connection (lsp-stdio-connection '("lstm-complete" "serve" "--stdio"))
    :activation-fn (lsp-activate-on "python")
    :server-id 'lstm-complete
    :add-on? t
    :priority -1
    :initialization-options (lambda () (list :numSuggestions 5)))))
(add-hook 'python-mode-hook #'lsp-deferred)
(add-hook 'python-ts-mode-hook #'lsp-deferred)
