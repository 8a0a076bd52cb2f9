;;; emacs_harness.el --- Emacs against lstm-complete, for tests/editors/test_emacs.py  -*- lexical-binding: t -*-

;; Run with `emacs --batch' after --eval has set the `harness-' variables below.  With
;; `harness-mode' eglot, it loads the documented Eglot config, opens `harness-file' (whose
;; hook starts the server), deletes the rest of the line after `harness-marker' and asks
;; completion-at-point for candidates; with lsp-mode, it loads that config and reads back the
;; client it registered.  What it found, or the error that stopped it, goes to `harness-out'
;; as JSON.

(require 'json)

(defvar harness-mode) ; eglot or lsp-mode
(defvar harness-config) ; the example file under test
(defvar harness-file) ; the Python file to open (eglot)
(defvar harness-marker) ; where to ask for completions (eglot)
(defvar harness-out) ; where the JSON goes

(defun harness-wait (what seconds ready)
  "Let Emacs run its timers and processes until READY gives non-nil, at most SECONDS."
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall ready))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or value (error "Timed out waiting for %s" what))))

(defun harness-eglot ()
  (require 'eglot)
  (load-file harness-config)
  (find-file harness-file)
  ;; eglot-ensure connects once the command that opened the file is over; a batch Emacs has
  ;; no command loop, so that moment is played here.
  (run-hooks 'post-command-hook)
  (let* ((server (harness-wait "the server" 30 #'eglot-current-server))
         ;; Ready once the model is loaded and the workspace indexed (the model answers alone
         ;; meanwhile, without the match model).
         (status (harness-wait
                  "the model" 60
                  (lambda ()
                    (let ((now (jsonrpc-request server :workspace/executeCommand
                                                '(:command "lstm-complete.status" :arguments []))))
                      (and (equal (plist-get now :state) "ready")
                           (plist-get now :indexedChars)
                           now))))))
    (goto-char (point-min))
    (search-forward harness-marker)
    (delete-region (point) (line-end-position))
    (let* ((capf (eglot-completion-at-point))
           (typed (buffer-substring-no-properties (nth 0 capf) (nth 1 capf)))
           (candidates (all-completions typed (nth 2 capf))))
      (prog1 `((mode . ,(symbol-name major-mode))
               (server . ,(plist-get (eglot--server-info server) :name))
               (model . ,(plist-get (plist-get status :model) :path))
               (typed . ,typed)
               (candidates . ,(vconcat (mapcar #'substring-no-properties candidates))))
        (eglot-shutdown server)))))

(defun harness-activates (client file mode)
  "Whether CLIENT would start for FILE in MODE: a JSON true or false."
  ;; lsp-activate-on looks at the current buffer (its mode and file name), not its arguments.
  (with-temp-buffer
    (setq buffer-file-name (expand-file-name file))
    (funcall mode)
    (if (funcall (lsp--client-activation-fn client) buffer-file-name major-mode) t :json-false)))

(defun harness-lsp-mode ()
  (require 'lsp-mode)
  (load-file harness-config)
  (let ((client (or (gethash 'lstm-complete lsp-clients)
                    (error "lsp-mode has no client lstm-complete"))))
    `((add-on . ,(if (lsp--client-add-on? client) t :json-false))
      (priority . ,(lsp--client-priority client))
      (python . ,(harness-activates client "kilo.py" #'python-mode))
      (text . ,(harness-activates client "notes.txt" #'text-mode))
      (options . ,(funcall (lsp--client-initialization-options client))))))

(let ((result (condition-case err
                  (progn
                    (package-initialize) ; Debian's elpa-eglot and elpa-lsp-mode
                    (if (eq harness-mode 'eglot) (harness-eglot) (harness-lsp-mode)))
                (error `((error . ,(error-message-string err)))))))
  (with-temp-file harness-out
    (insert (json-encode result))))
(kill-emacs 0)

;;; emacs_harness.el ends here
